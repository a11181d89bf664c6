/**
 * The scheduler (issue 4): `new Scheduler(client, informers, events, options).start()`.
 * See ./scheduler.ts for the design and ./algorithm.ts for one decision.
 */
export { Scheduler, type SchedulerOptions } from './scheduler.js';
export { SchedulingAlgorithm, numFeasibleNodesToFind, DEFAULT_FILTERS, defaultScorers, type ScheduleOutcome, type AlgorithmOptions } from './algorithm.js';
export { SchedulerCache, NodeInfo } from './cache.js';
export { SchedulingQueue, backoffDuration } from './queue.js';
export { parsePod, type PodInfo } from './pod-info.js';
export { fitErrorMessage, Diagnosis, type Status, type FilterPlugin, type ScorePlugin } from './framework.js';
