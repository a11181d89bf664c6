#!/usr/bin/env node
/** The one `pilote` executable: dispatches to its subcommands. */
import { serverCommand } from './server.js';
import { agentCommand } from './agent.js';
import { simulateCommand } from './simulate.js';
import { buildCommand } from './build.js';
import { imageCommand } from './image.js';
import { SERVER_VERSION } from '../apiserver/api-server.js';

const USAGE = `Pilote — Kubernetes in one program.

Usage: pilote <command> [options]

Commands:
  server     start a one-node cluster in the foreground (API server on embedded SQLite)
  agent      join this machine to a cluster as a node (pilote agent --server URL --token T)
  simulate   join a running cluster with simulated nodes (scale rehearsals, like KWOK)
  build      build an image from a Dockerfile, no daemon (pilote build -t NAME:TAG DIR)
  image      manage images: ls, rm, inspect, save, load, tag, push, pull, bootstrap
  version    print the version

Run 'pilote <command> --help' for a command's options.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return serverCommand(rest);
    case 'agent':
      return agentCommand(rest);
    case 'simulate':
      return simulateCommand(rest);
    case 'build':
      return buildCommand(rest);
    case 'image':
      return imageCommand(rest);
    case 'version':
    case '--version':
      process.stdout.write(`pilote ${SERVER_VERSION.gitVersion}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`pilote: unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`pilote: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
