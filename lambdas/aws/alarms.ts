import { DescribeAlarmsCommand, type DescribeAlarmsCommandOutput } from '@aws-sdk/client-cloudwatch';
import { chunks } from '../shared/map-limit';
import { cloudwatch } from './clients/cloudwatch';
import { paginate, send } from './send';

export interface AlarmStates {
  /** State per alarm found (metric and composite alike). */
  readonly states: Readonly<Record<string, string>>;
  /** Names asked for that CloudWatch does not have: a runbook cannot watch what is not there. */
  readonly missing: readonly string[];
  readonly inAlarm: boolean;
}

/**
 * The states of these alarms, metric and composite: DescribeAlarms returns
 * metric alarms only unless AlarmTypes names both, and a name that does not
 * exist is simply absent, so the missing ones are reported, not ignored.
 */
export async function alarmStates(names: readonly string[]): Promise<AlarmStates> {
  const states: Record<string, string> = {};
  // DescribeAlarms takes up to 100 names per call.
  for (const batch of chunks([...new Set(names)], 100)) {
    const pages = await paginate(
      (NextToken) =>
        send<DescribeAlarmsCommandOutput>(cloudwatch, new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken })),
      (page) => page.NextToken,
    );
    for (const page of pages) {
      for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) if (a.AlarmName) states[a.AlarmName] = a.StateValue ?? 'INSUFFICIENT_DATA';
    }
  }
  const missing = names.filter((n) => !(n in states));
  return { states, missing, inAlarm: Object.values(states).includes('ALARM') };
}
