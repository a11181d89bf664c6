/**
 * Runs every benchmark (bench/storage, bench/api, bench/codec, bench/scheduler,
 * bench/workloads) and prints one Markdown
 * summary: date, machine, then each figure beside the floor measured in the
 * same run. `npm run bench` runs this (`node dist/bench/run-all.js`).
 */
import { execFileSync } from 'node:child_process';
import { runStorageBench, storageRows } from './storage.js';
import { runApiBench } from './api.js';
import { runCodecBench } from './codec.js';
import { runSchedulerBench, schedulerRows } from './scheduler.js';
import { runWorkloadsBench } from './workloads.js';
import { backgroundLoad, machineLine, markdownTable } from './report.js';

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${rev} (src/ modified)` : rev;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const out: string[] = [];
  out.push(`# Pilote benchmarks`, '');
  out.push(`- date: ${new Date().toString()}`);
  out.push(`- machine: ${machineLine()}`);
  out.push(`- revision: ${gitRevision()}`);
  out.push(`- command: \`node dist/bench/run-all.js\` (\`npm run bench\`)`);
  out.push(`- before the run: ${await backgroundLoad()}`, '');

  process.stderr.write('[bench] storage\n');
  const storage = await runStorageBench();
  out.push('## Storage (in-process SqliteStorage)', '', markdownTable(storageRows(storage)), '');

  process.stderr.write('[bench] API server\n');
  const api = await runApiBench();
  out.push('## API server (pilote server process, HTTPS, real kubectl)', '', markdownTable(api.rows), '');
  for (const note of api.notes) out.push(`- ${note}`);

  process.stderr.write('[bench] client compatibility (codecs, OpenAPI)\n');
  out.push('', '## Client compatibility (decoding, OpenAPI)', '', markdownTable(await runCodecBench()), '');

  process.stderr.write('[bench] scheduler (in-process)\n');
  out.push('## Scheduler (in-process API server, 1,000 nodes, 10,000 pods)', '', markdownTable(schedulerRows(await runSchedulerBench())), '');

  process.stderr.write('[bench] workloads (controllers, scheduler, simulated nodes)\n');
  const workloads = await runWorkloadsBench();
  out.push('## Workloads (pilote server process with controllers, scheduler and simulated nodes)', '', markdownTable(workloads.rows), '');
  for (const note of workloads.notes) out.push(`- ${note}`);
  out.push('');
  out.push(`- after the run: ${await backgroundLoad()}`);
  out.push('', `Ratio = value / floor. Total run time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.log(out.join('\n'));
}

await main();
