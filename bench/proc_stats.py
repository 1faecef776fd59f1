# SPDX-License-Identifier: MIT
"""What the benchmarks read of pairgated's process: memory and CPU time, from /proc."""
import os


def mem_kib(pid):
    """VmRSS and VmHWM (peak RSS) in KiB."""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmRSS', 'VmHWM'):
                out[k] = int(v.split()[0])
    return out


def cpu_seconds(pid):
    """User + system CPU time in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        rest = f.read().rsplit(')', 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf('SC_CLK_TCK')
