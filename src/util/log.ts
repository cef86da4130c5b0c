// Debug logging by namespace (DEBUG=trapvisor:* to enable), via `debug`.
import createDebug from 'debug';

export function logger(ns: string): createDebug.Debugger {
  return createDebug(`trapvisor:${ns}`);
}
