// `monitor CMD` (qRcmd,HEX): the stub's own commands (help, phys) and the
// target's (info registers/mem/patches/shadow/stats, reset, ...). Output
// goes to gdb's console as O packets, then OK.

import type { GdbSession, Reply } from '../session.js';
import { asciiToHex, hexToAscii } from '../hex.js';

const STUB_HELP =
  'help              this list\n' +
  'phys on|off       m/M/X address guest-physical (on) or guest-virtual memory (off)\n';

/** Output per O packet (hex doubles it). */
const CHUNK = 4096; // chars; even all-UTF-8 stays far below PacketSize

export function setPhysMode(s: GdbSession, on: boolean): boolean {
  if (s.target.setPhysicalMode === undefined) return false;
  s.target.setPhysicalMode(on);
  s.physMode = on;
  return true;
}

function run(s: GdbSession, cmd: string): string {
  const words = cmd.trim().split(/\s+/);
  if (words[0] === '' || words[0] === 'help') {
    let text = STUB_HELP;
    if (s.target.monitorHelp) text += s.target.monitorHelp();
    return text;
  }
  if (words[0] === 'phys') {
    if (words.length === 1) return `physical addressing is ${s.physMode ? 'on' : 'off'}\n`;
    if (words.length !== 2 || (words[1] !== 'on' && words[1] !== 'off')) return 'usage: phys on|off\n';
    if (!setPhysMode(s, words[1] === 'on')) return 'this target has no physical addressing mode\n';
    return `physical addressing ${words[1]}\n`;
  }
  if (s.target.monitor) return s.target.monitor(cmd.trim());
  return `unknown command: ${words[0]} (try "monitor help")\n`;
}

export function handleMonitor(s: GdbSession, body: string): Reply {
  const cmd = hexToAscii(body.slice('qRcmd,'.length));
  if (cmd === null) return 'E16';
  let out = String(run(s, cmd));
  if (out.length > 0 && !out.endsWith('\n')) out += '\n';
  for (let i = 0; i < out.length; i += CHUNK) s.send('O' + asciiToHex(out.slice(i, i + CHUNK)));
  return 'OK';
}
