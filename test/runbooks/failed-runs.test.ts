/**
 * A failed step never strands capacity: every Task state of every runbook is
 * made to fail in turn with an error no Retry names (before its call, and
 * after its call landed), on every route that reaches it. Whatever the run
 * then does, its Catch handles the error, every hold it leaves ends within
 * the run's own bound, and after they expire one reconcile pass restores
 * the configured state. Then the definition-level rules that make that so.
 */
import { describe, expect, it } from 'vitest';
import { RUNBOOK_NAMES, type RunbookName } from '../../lib/constructs/runbooks/runbooks';
import { taskStates, type AslState } from './definition';
import { arrange, reachableStates, settleProblems, START, walkStates } from './fixtures';
import { callFor, deployment, runbookOf, useHarness } from './harness';

const typeOf = (runbook: RunbookName, state: string) => runbookOf(deployment(runbook === 'gpu-nodegroup-scale' ? 'eks' : 'default'), runbook).states[state]?.Type;

describe.each(RUNBOOK_NAMES)('%s: every Task failing in turn', (runbook) => {
  const h = useHarness('default', START);

  it('before its call and after it landed: caught or retried, no hold outlives its bound, the configured state back after expiry', async () => {
    const problems: string[] = [];
    const failed = await walkStates(h, runbook, (state) => typeOf(runbook, state) === 'Task', async (state, s) => {
      for (const afterEffect of [false, true]) {
        if (afterEffect) await arrange(h, s);
        const label = `${s.title}, '${state}' failing ${afterEffect ? 'after' : 'before'} its call`;
        const e = await h.run(s.runbook, s.input(), { fail: { state, afterEffect } });
        if (!e.caught.includes(state) && !e.retried.includes(state)) problems.push(`${label}: neither caught nor retried (${e.status} ${e.error})`);
        // A failed run ends in one of its Fail states, having reported; an error escaping a Task would end it anywhere.
        if (e.status === 'FAILED' && typeOf(runbook, e.path.at(-1)!) !== 'Fail') problems.push(`${label}: ended by ${e.error} escaping '${e.path.at(-1)}'`);
        problems.push(...(await settleProblems(h, label, START, s.holdMinutes)));
      }
    });

    expect(problems).toEqual([]);
    expect([...failed].sort()).toEqual(reachableStates(runbook, 'Task'));
  });
});

describe('the definitions', () => {
  const d = deployment('eks');
  const runbooks = RUNBOOK_NAMES.map((name) => [name, runbookOf(d, name)] as const);
  const retried = (s: AslState) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
  const caughtAll = (s: AslState) => (s.Catch ?? []).find((c) => c.ErrorEquals.includes('States.ALL'));

  it.each(runbooks)('%s: every Task retries the transient errors of what it calls', (_name, rb) => {
    const missing = taskStates(rb).flatMap(([name, s]) => {
      const call = callFor(d, s.Resource!);
      const service = call.startsWith('lambda:') ? 'Lambda' : { ecs: 'Ecs', eks: 'Eks', autoscaling: 'AutoScaling', sns: 'Sns' }[call.split(':')[0]!];
      const needed = service === 'Lambda' ? ['Lambda.TooManyRequestsException', 'Lambda.ServiceException'] : [`${service}.ThrottlingException`, `${service}.ServiceUnavailableException`];
      return needed.filter((e) => !retried(s).includes(e)).map((e) => `${name}: ${e}`);
    });
    expect(missing).toEqual([]);
  });

  it.each(runbooks)('%s: every Lambda step retries Lambda.Unknown (a timeout whose call may have landed; every action is idempotent)', (_name, rb) => {
    const lambdas = taskStates(rb).filter(([, s]) => callFor(d, s.Resource!).startsWith('lambda:'));
    expect(lambdas.length).toBeGreaterThan(2);
    expect(lambdas.filter(([, s]) => !retried(s).includes('Lambda.Unknown')).map(([n]) => n)).toEqual([]);
  });

  it.each(runbooks)('%s: no Task can end the run uncaught: each catches every error', (_name, rb) => {
    expect(taskStates(rb).filter(([, s]) => !caughtAll(s)).map(([n]) => n)).toEqual([]);
  });

  it.each(runbooks)('%s: a notification that fails is recorded under $.notificationErrors and the run goes on to the same next state', (_name, rb) => {
    const publishes = taskStates(rb).filter(([, s]) => s.Resource === 'arn:aws:states:::sns:publish');
    expect(publishes.length).toBeGreaterThan(3);
    const wrong = publishes.flatMap(([name, s]) => {
      const recorded = rb.states[caughtAll(s)?.Next ?? ''];
      const ok = s.ResultPath === null && recorded?.Type === 'Pass' && String(recorded.ResultPath).startsWith('$.notificationErrors.') && recorded.Next === s.Next;
      return ok ? [] : [`${name}: catch goes to ${caughtAll(s)?.Next ?? 'nothing'} (${JSON.stringify(recorded ?? null)})`];
    });
    expect(wrong).toEqual([]);
  });
});
