import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startContactGuard } from '../../activities/contact-guard';

/** A probe whose answer the test switches: 'ok' resolves at once, 'refused' rejects, 'hang' never settles. */
function switchableProbe() {
  const state = { mode: 'ok' as 'ok' | 'refused' | 'hang', calls: 0 };
  const probe = () => {
    state.calls++;
    if (state.mode === 'ok') return Promise.resolve();
    if (state.mode === 'refused') return Promise.reject(new Error('connection refused'));
    return new Promise<void>(() => {});
  };
  return { state, probe };
}

/** Blocks the event loop (a long synchronous op or a GC pause). */
function blockFor(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy */
  }
}

const TIMEOUT = 300;
const EVERY = 50;

test('a guard whose probes are answered never fires', async () => {
  const { state, probe } = switchableProbe();
  const guard = startContactGuard({ timeoutMs: TIMEOUT, everyMs: EVERY, probe });
  await sleep(4 * TIMEOUT);
  assert.equal(guard.signal.aborted, false);
  assert.ok(state.calls >= 10, `it kept probing (${state.calls} probes)`);
  guard.close();
  const calls = state.calls;
  await sleep(3 * EVERY);
  assert.equal(state.calls, calls, 'no probe after close');
});

for (const mode of ['refused', 'hang'] as const) {
  test(`probes ${mode === 'refused' ? 'refused' : 'left unanswered'}: it fires after the timeout, not before`, async () => {
    const { state, probe } = switchableProbe();
    const reasons: string[] = [];
    const guard = startContactGuard({
      timeoutMs: TIMEOUT,
      everyMs: EVERY,
      probe,
      onStop: (r) => reasons.push(r),
    });
    await sleep(2 * EVERY);
    const cutAt = Date.now();
    state.mode = mode;
    await sleep(TIMEOUT - 2 * EVERY);
    assert.equal(
      guard.signal.aborted,
      false,
      'not before the heartbeat timeout has passed since the last answer',
    );
    const fired = new Promise<number>((resolve) =>
      guard.signal.addEventListener('abort', () => resolve(Date.now() - cutAt)),
    );
    const after = await Promise.race([fired, sleep(3 * TIMEOUT).then(() => -1)]);
    assert.ok(after > 0, 'it fired');
    // Bound: timeout + one probe interval + one probe timeout (= interval here) after the last answer, plus slack.
    assert.ok(after <= TIMEOUT + 2 * EVERY + 150, `fired ${after} ms after the cut`);
    const message = (guard.signal.reason as Error).message;
    assert.match(message, /^superseded: no contact with Temporal for \d/);
    // the silence it reports is over the timeout, as the condition it fired on
    assert.ok(Number(/for ([\d.]+) s/.exec(message)![1]) * 1000 > TIMEOUT, message);
    assert.deepEqual(reasons, [(guard.signal.reason as Error).message], 'onStop once, with the same reason');
  });
}

test('a blocked event loop longer than the timeout does not fire it while Temporal still answers', async () => {
  // The fifth probe is answered while the loop is blocked (a long synchronous op, a GC pause); the answer waits
  // behind the timers, as the native connection's answers (I/O) do.
  let calls = 0;
  const guard = startContactGuard({
    timeoutMs: TIMEOUT,
    everyMs: EVERY,
    probe: () =>
      new Promise<void>((resolve) => {
        if (++calls !== 5) return void setImmediate(resolve);
        setImmediate(() => {
          blockFor(3 * TIMEOUT);
          setImmediate(resolve); // runs after the timers that fell due during the block
        });
      }),
  });
  await sleep(3 * TIMEOUT + 10 * EVERY);
  assert.ok(calls > 6, `probing went on after the stall (${calls} probes)`);
  assert.equal(guard.signal.aborted, false);
  guard.close();
});

test('a stall followed by a cut still fires, a full timeout after the stall', async () => {
  const { state, probe } = switchableProbe();
  const guard = startContactGuard({ timeoutMs: TIMEOUT, everyMs: EVERY, probe });
  await sleep(2 * EVERY);
  state.mode = 'refused';
  blockFor(2 * TIMEOUT);
  const stallEnd = Date.now();
  await sleep(TIMEOUT - 2 * EVERY);
  assert.equal(guard.signal.aborted, false, 'the stall itself is not counted');
  await sleep(3 * EVERY + 150);
  assert.equal(guard.signal.aborted, true, `fired by ${Date.now() - stallEnd} ms after the stall`);
});
