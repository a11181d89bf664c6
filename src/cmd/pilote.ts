#!/usr/bin/env node
/** The one `pilote` executable: dispatches to its subcommands. */
console.log('pilote');
