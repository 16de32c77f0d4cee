/* global process */
// Preloaded (NODE_OPTIONS --import; node 20 refuses --cpu-prof there) into the processes bench:broadcast
// profiles: records a V8 CPU profile from start to exit and writes it to $CPU_PROF_DIR/CPU.<pid>.cpuprofile.
// SIGHUP ends the process with process.exit (a process killed by a signal writes nothing).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let written = false;
  process.on('exit', () => {
    if (written) return;
    written = true;
    // An in-process session answers synchronously, so this runs before the process ends.
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(path.join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
  process.on('SIGHUP', () => process.exit(0));
}
