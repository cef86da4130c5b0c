// Guest-visible faults. A CpuFault is a plain object (not an Error: no
// stack capture), thrown at the faulting access and caught at exactly one
// site, the step loop in interp.ts, which rewinds EIP and delivers it.

export class CpuFault {
  vector = 0;
  error = 0;
  hasError = false;
}

/** The one preallocated fault object: faults never nest at the throw site. */
export const FAULT = new CpuFault();

/** Raise exception `vector` with an error code (SDM vol. 3, 6.13). */
export function fault(vector: number, error: number): never {
  FAULT.vector = vector;
  FAULT.error = error & 0xffff;
  FAULT.hasError = true;
  throw FAULT;
}

/** Raise exception `vector` without an error code (#DE, #UD, #NM, #BR, ...). */
export function faultNoCode(vector: number): never {
  FAULT.vector = vector;
  FAULT.error = 0;
  FAULT.hasError = false;
  throw FAULT;
}

export function isCpuFault(e: unknown): e is CpuFault {
  return e === FAULT;
}
