/* global process, setInterval, clearInterval */
// Preloaded into each embedded Azurite process (see azurite.ts): when the app that started it dies
// without stopping it (kill -9), Azurite shuts down the way it does on Ctrl-C, saving its data, instead
// of holding the ports and the data folder for ever. Once only: a second SIGINT would kill it mid-save.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGINT');
}, 1000);
timer.unref();
