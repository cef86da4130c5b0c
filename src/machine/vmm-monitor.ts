// The VMM's own monitor commands (gdb `monitor ...`): the workings a
// kernel developer can only see here — INT 3 patches with their original
// instructions, guest PTE vs shadow PTE for an address, exit counters, and
// the real (deprivileged) CPU state beside the virtual one.

import { disassemble } from '../cpu/disasm.js';
import { SHADOW_KERNEL, SHADOW_USER } from '../vmm/shadow-paging.js';
import { walkGuest, WalkResult } from '../vmm/guest-walk.js';
import type { Monitor } from '../vmm/monitor.js';

export const VMM_MONITOR_HELP = [
  'info patches -- every INT 3 patch: address, original instruction, reason',
  'info shadow ADDR -- guest PTE vs shadow PTE for a guest-linear address',
  'info stats -- VMM exit counters',
  'info real -- the real (deprivileged) CPU state beside the virtual one',
].join('\n');

const hex = (v: number, d = 8) => (v >>> 0).toString(16).padStart(d, '0');

export function vmmMonitor(mon: Monitor, cmd: string): string | null {
  const w = cmd.split(/\s+/);
  if (w[0] !== 'info') return null;
  switch (w[1]) {
    case 'patches': {
      const reg = mon.guest.registry;
      const list = reg.patches();
      if (list.length === 0) return 'no patches\n';
      let out = `${list.length} patches\n`;
      for (const p of list) {
        const bytes = reg.originalBytes(p.gpa, Math.max(p.length, 1));
        const is32 = mon.vcpus[0]?.cpu.cs32 ?? true;
        out += `${hex(p.linear)} (phys ${hex(p.gpa)})  ${disassemble(bytes, p.linear, is32).text.padEnd(28)} ${p.reason}\n`;
      }
      return out;
    }
    case 'shadow': {
      const lin = Number.parseInt(w[2] ?? '', 16);
      if (!Number.isFinite(lin)) return 'usage: info shadow ADDR (hex)\n';
      const ctx = mon.vcpus[0];
      const r = new WalkResult();
      const ok = walkGuest(ctx.g.mem, ctx.v, lin >>> 0, false, false, false, r);
      const guest = ok ? `guest: ${hex(lin)} -> gpa ${hex(r.gpa)}` : `guest: ${hex(lin)} not mapped (would #PF, error ${r.error})`;
      const k = ctx.shadow.lookup(SHADOW_KERNEL, lin >>> 0);
      const u = ctx.shadow.lookup(SHADOW_USER, lin >>> 0);
      const fmt = (pte: number) => (pte & 1 ? `${hex(pte & ~0xfff)} ${pte & 2 ? 'W' : 'R'}${pte & 4 ? 'U' : 'S'}` : 'not present');
      return `${guest}\nshadow (kernel): ${fmt(k)}\nshadow (user):   ${fmt(u)}\n`;
    }
    case 'stats':
      return JSON.stringify(mon.stats(), null, 2) + '\n';
    case 'real': {
      let out = '';
      for (const ctx of mon.vcpus) {
        const c = ctx.cpu;
        out += `vCPU ${ctx.index}: virtual cs=${hex(ctx.v.csSel, 4)} ss=${hex(ctx.v.ssSel, 4)} cpl=${ctx.v.cpl} eflags=${hex(ctx.eflags)} cr0=${hex(ctx.v.cr0)} cr3=${hex(ctx.v.cr3)}\n`;
        out += `        real    cs=${hex(c.segSel[1], 4)} ss=${hex(c.segSel[2], 4)} cpl=${c.cpl} eflags=${hex(c.getEflags())} cr0=${hex(c.cr0)} cr3=${hex(c.cr3)} gdtr=${hex(c.gdtrBase)}\n`;
      }
      return out;
    }
    default:
      return null;
  }
}
