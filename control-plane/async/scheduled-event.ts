/**
 * The event a schedule without fixed input delivers: EventBridge's "Scheduled Event", as a
 * Lambda function on an EventBridge schedule receives it. Pure.
 */
export function scheduledEvent(eventId: string, scheduleId: string, firedAtMs: number, region: string): Record<string, unknown> {
  return {
    version: '0',
    id: eventId,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    // EventBridge writes the time to the second.
    time: new Date(Math.floor(firedAtMs / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/${scheduleId}`],
    detail: {},
  };
}
