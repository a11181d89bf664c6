/**
 * What every benchmark prints: one row per figure, beside the floor measured
 * in the same run, their ratio, the aim and whether the figure meets it.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

/** One figure of a benchmark run. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  /** The floor measured in the same run, in the same unit. */
  floor?: number;
  /** What the floor is, in a few words. */
  floorName?: string;
  /** The aim, checked against `value`. */
  aim?: { op: '<' | '>=' | '<='; value: number } | { op: '>=floor×'; factor: number };
}

/** Whether a row meets its aim (undefined = no aim). */
export function passes(row: BenchRow): boolean | undefined {
  const aim = row.aim;
  if (!aim) return undefined;
  if (aim.op === '>=floor×') return row.floor !== undefined && row.value >= aim.factor * row.floor;
  if (aim.op === '<') return row.value < aim.value;
  if (aim.op === '<=') return row.value <= aim.value;
  return row.value >= aim.value;
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function formatAim(row: BenchRow): string {
  const aim = row.aim;
  if (!aim) return '—';
  if (aim.op === '>=floor×') return `≥ ${aim.factor}× floor`;
  return `${aim.op === '>=' ? '≥' : aim.op === '<=' ? '≤' : '<'} ${formatNumber(aim.value)} ${row.unit}`;
}

/** A Markdown table of rows: metric, value, floor, ratio (value / floor), aim, result. */
export function markdownTable(rows: BenchRow[]): string {
  const lines = ['| metric | value | floor (same run) | ratio | aim | result |', '| --- | ---: | --- | ---: | --- | --- |'];
  for (const row of rows) {
    const floor = row.floor === undefined ? '—' : `${formatNumber(row.floor)} ${row.unit} (${row.floorName ?? 'floor'})`;
    const ratio = row.floor === undefined || row.floor === 0 ? '—' : `${(row.value / row.floor).toFixed(2)}×`;
    const pass = passes(row);
    const result = pass === undefined ? '' : pass ? 'pass' : '**FAIL**';
    lines.push(`| ${row.metric} | ${formatNumber(row.value)} ${row.unit} | ${floor} | ${ratio} | ${formatAim(row)} | ${result} |`);
  }
  return lines.join('\n');
}

/** p in [0, 100], nearest-rank on a copy sorted ascending. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** One line describing this machine: cores, CPU model, memory, Node version. */
export function machineLine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) model = match[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return `${cpus().length} × ${model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Jiffies busy and total over all CPUs, from the first line of /proc/stat. */
function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * How busy the machine is with work that is not ours: percent of all CPUs
 * busy during `ms` while the benchmark does nothing, and the 1-minute load
 * average. Other processes on a shared machine are the main source of noise.
 */
export async function backgroundLoad(ms = 1000): Promise<string> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  const busy = before && after && after.total > before.total ? (100 * (after.busy - before.busy)) / (after.total - before.total) : NaN;
  return `${busy.toFixed(0)}% of all CPUs busy with other work over ${ms / 1000} s, load average ${loadavg()[0]!.toFixed(2)}`;
}
