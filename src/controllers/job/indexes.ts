/**
 * Completion indexes of Indexed Jobs as ordered, merged intervals, and their
 * text form in status.completedIndexes / status.failedIndexes ("1,3-5,7":
 * three or more consecutive numbers become a range, two stay a list).
 */

/** An inclusive range of indexes. */
export interface Interval {
  first: number;
  last: number;
}

/** Ordered, non-overlapping, non-adjacent intervals. */
export type Intervals = readonly Interval[];

/** Number of indexes in the intervals. */
export function total(intervals: Intervals): number {
  let count = 0;
  for (const iv of intervals) count += iv.last - iv.first + 1;
  return count;
}

/** Whether `index` is in the intervals (binary search). */
export function has(intervals: Intervals, index: number): boolean {
  let lo = 0;
  let hi = intervals.length;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    if (intervals[mid].last >= index) hi = mid;
    else lo = mid + 1;
  }
  return hi < intervals.length && intervals[hi].first <= index;
}

/** Merges two ordered interval lists. */
export function merge(a: Intervals, b: Intervals): Interval[] {
  const result: Interval[] = [];
  const push = (iv: Interval) => {
    const last = result[result.length - 1];
    if (!last || iv.first > last.last + 1) result.push({ ...iv });
    else if (last.last < iv.last) last.last = iv.last;
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i].first < b[j].first) push(a[i++]);
    else push(b[j++]);
  }
  while (i < a.length) push(a[i++]);
  while (j < b.length) push(b[j++]);
  return result;
}

/** Adds indexes given in increasing order. */
export function withIndexes(intervals: Intervals, ordered: readonly number[]): Interval[] {
  return merge(
    intervals,
    ordered.map((ix) => ({ first: ix, last: ix })),
  );
}

/** The text form: "0-2,4,6,7". */
export function formatIntervals(intervals: Intervals): string {
  const parts: string[] = [];
  for (const iv of intervals) {
    if (iv.last === iv.first) parts.push(String(iv.first));
    else if (iv.last === iv.first + 1) parts.push(`${iv.first},${iv.last}`);
    else parts.push(`${iv.first}-${iv.last}`);
  }
  return parts.join(',');
}

/** Parses the text form, ignoring corrupt parts and indexes ≥ completions. */
export function parseIntervals(text: string | undefined, completions: number): Interval[] {
  if (!text) return [];
  const result: Interval[] = [];
  for (const part of text.split(',')) {
    const limits = part.split('-');
    const first = goAtoi(limits[0]);
    if (first === undefined) continue;
    if (first >= completions) break;
    let last = first;
    if (limits.length > 1) {
      const parsed = goAtoi(limits[1]);
      if (parsed === undefined) continue;
      last = Math.min(parsed, completions - 1);
    }
    const previous = result[result.length - 1];
    if (previous && previous.last === first - 1) previous.last = last;
    else result.push({ first, last });
  }
  return result;
}

function goAtoi(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The first `count` indexes below `completions` not covered by `taken`
 * (succeeded, active, failed… indexes).
 */
export function firstPendingIndexes(taken: Intervals, count: number, completions: number): number[] {
  const result: number[] = [];
  if (count <= 0) return result;
  let candidate = 0;
  for (const iv of taken) {
    for (; candidate < completions && result.length < count && candidate < iv.first; candidate++) result.push(candidate);
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && result.length < count; candidate++) result.push(candidate);
  return result;
}

/** Whether the succeeded indexes satisfy a successPolicy rule's succeededIndexes (and optional succeededCount). */
export function matchSucceededIndexesRule(ruleIndexes: Intervals, succeeded: Intervals, succeededCount: number | undefined): boolean {
  let contains = 0;
  let s = 0;
  let r = 0;
  while (r < ruleIndexes.length && s < succeeded.length) {
    const overlap = Math.min(ruleIndexes[r].last, succeeded[s].last) - Math.max(ruleIndexes[r].first, succeeded[s].first) + 1;
    if (overlap > 0) contains += overlap;
    if (succeeded[s].last < ruleIndexes[r].last) s++;
    else if (succeeded[s].last > ruleIndexes[r].last) r++;
    else {
      s++;
      r++;
    }
  }
  return contains === total(ruleIndexes) || (succeededCount !== undefined && contains >= succeededCount);
}
