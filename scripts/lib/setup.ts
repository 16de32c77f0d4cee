/** The rollout team makes a channel the triage channel, so logged issues are posted there as in real use. */
export async function setUpTriageChannel(
  url: string,
  opts: { serviceUrl: string; lead: { id: string; aadObjectId: string; name: string }; channelId: string; teamId: string },
): Promise<void> {
  const res = await fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      id: `setup-${Date.now()}-${Math.random()}`,
      channelId: 'msteams',
      serviceUrl: opts.serviceUrl,
      from: opts.lead,
      recipient: { id: '28:bot', name: 'Rollout Desk' },
      conversation: { id: `${opts.channelId};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { tenant: { id: 'tenant-1' }, team: { id: opts.teamId }, channel: { id: opts.channelId } },
      text: '<at>Rollout Desk</at> setup triage',
      deliveryMode: 'expectReplies',
    }),
  });
  if (res.status !== 200) throw new Error(`could not set up the triage channel: ${res.status} ${await res.text()}`);
}
