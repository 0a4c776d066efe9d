// Memory of this process, as the fleet reports it. Resident memory (RSS) counts the pages of Node's own
// code in every process that maps them; the proportional set size (PSS, Linux) divides each shared page
// among the processes that share it, so summed over a run's processes it is the memory the run takes.

import fs from "node:fs";

/** This process's proportional set size in bytes, or null where the system does not say (not Linux). */
export function proportionalSetSize(): number | null {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/self/smaps_rollup", "utf8"));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}
