// A supervised child exits when its supervisor is gone (SIGKILLed, OOM-killed): the next
// `switchyard start` must find the ports free, and nothing should run unsupervised.
const CHECK_EVERY_MS = 1000;

export function exitWhenOrphaned(onOrphaned: () => void, env: NodeJS.ProcessEnv = process.env): void {
  if (env.SWITCHYARD_SUPERVISED !== '1') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, CHECK_EVERY_MS);
  timer.unref();
}
