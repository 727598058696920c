#!/usr/bin/env node
// tinyhub: the project's command line. Each subcommand lives in its own module exporting
// `summary` (one line for the help) and `run(args)`; add new ones to COMMANDS.
import { pathToFileURL } from 'node:url'

/** @type {Record<string, () => Promise<{ summary: string, run: (args: string[]) => Promise<void> }>>} */
export const COMMANDS = {
  hub: () => import('./hub/command.js'),
  device: () => import('./device-command.js'),
  moddable: () => import('./moddable-command.js'),
  flash: () => import('./flash-command.js')
}

/** @param {string[]} argv arguments after the program name */
export async function main (argv) {
  const [name, ...args] = argv
  if (!name || name === '-h' || name === '--help' || !Object.hasOwn(COMMANDS, name)) {
    const lines = await Promise.all(Object.entries(COMMANDS).map(async ([n, load]) => `  ${n.padEnd(10)} ${(await load()).summary}`))
    console.log(`usage: tinyhub <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun tinyhub <command> --help for its options.`)
    process.exitCode = name && name !== '-h' && name !== '--help' ? 2 : 0
    return
  }
  await (await COMMANDS[name]()).run(args)
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).catch(err => {
    console.error(`tinyhub: ${err.message}`)
    process.exitCode = 1
  })
}
