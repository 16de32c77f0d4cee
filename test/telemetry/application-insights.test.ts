import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY } from '../../src/storage/azurite.js';
import { activity, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { LocalBotIdentity, type ProductionInstance, startProduction } from '../support/production.js';
import { azuriteConnection } from '../support/storage.js';
import { LocalIngestion } from './ingestion.js';

let ingestion: LocalIngestion;
let identity: LocalBotIdentity;
let connector: RecordingConnector;
let app: ProductionInstance | undefined;

/** What a user typed: it must never reach telemetry. */
const TYPED = `my password for the district server is Zebra-${randomBytes(4).toString('hex')}, why is submit greyed out`;
const EXPORT_TOKEN = randomBytes(24).toString('hex');
const tokensSent: string[] = [];

beforeAll(async () => {
  [ingestion, identity, connector] = await Promise.all([
    new LocalIngestion().start(),
    new LocalBotIdentity().start(),
    new RecordingConnector().start(),
  ]);
  app = await startProduction({
    identity,
    connectionString: azuriteConnection(),
    tablePrefix: `ai${randomBytes(4).toString('hex')}`,
    env: {
      ...ingestion.env(randomUUID()),
      // The SDK's own usage reports go to Microsoft's endpoints, not the connection string's: off here.
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
      // The distro samples at most 5 traces a second by default; this burst of requests must all be kept.
      OTEL_TRACES_SAMPLER: 'always_on',
    },
  });

  const send = async (body: Record<string, unknown>) => {
    const token = identity.token(String(body.serviceUrl));
    tokensSent.push(token);
    return fetch(`${app?.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  };
  // A question answered through the connector…
  const question = activity(USERS.staff, { text: TYPED, serviceUrl: connector.url, deliveryMode: undefined });
  expect((await send(question)).status).toBe(200);
  // …then one whose replies the connector refuses (403, as for a user who blocked the bot): an exception…
  connector.failNext(403, 2);
  const failing = activity(USERS.staff, { text: TYPED, serviceUrl: connector.url, deliveryMode: undefined });
  expect((await send(failing)).status).toBe(200);
  // …and a download link, whose token is a secret.
  expect((await fetch(`${app.url}/exports/${EXPORT_TOKEN}`)).status).toBe(404);
  // SIGTERM flushes what the exporter buffers.
  expect(await app.stop('SIGTERM')).toBe(0);
}, 90_000);

afterAll(async () => {
  await app?.kill();
  await Promise.all([ingestion?.stop(), identity?.stop(), connector?.stop()]);
});

describe('telemetry to Application Insights', () => {
  it('sends requests, dependencies and the exception of a failed turn', () => {
    const requests = ingestion.ofType('RequestData').map((e) => e.data?.baseData ?? {});
    expect(requests.map((r) => `${String(r.name)} ${String(r.responseCode)}`), JSON.stringify(requests)).toEqual(
      expect.arrayContaining(['POST /api/messages 200', 'GET /exports/:token 404']),
    );

    const exceptions = ingestion.ofType('ExceptionData');
    expect(exceptions.length).toBeGreaterThan(0);
    // The connector's refusal, as the turn's error handler logged it (RestError named by the error code).
    const types = exceptions.flatMap(
      (e) => (e.data?.baseData?.exceptions as { typeName: string }[] | undefined)?.map((x) => x.typeName) ?? [],
    );
    expect(types).toContain('ServiceError');

    const dependencies = ingestion.ofType('RemoteDependencyData').map((e) => e.data?.baseData ?? {});
    const targets = dependencies.map((d) => String(d.target ?? ''));
    const connectorHost = new URL(connector.url).host;
    expect(targets, 'the Teams connector').toContainEqual(expect.stringContaining(connectorHost));
    const tableHost = /TableEndpoint=http:\/\/([^/]+)/.exec(azuriteConnection())?.[1] ?? '?';
    expect(targets, 'Table storage').toContainEqual(expect.stringContaining(tableHost));
  });

  it("sends the app's own figures (questions answered)", () => {
    const metrics = ingestion
      .ofType('MetricData')
      .flatMap((e) => (e.data?.baseData?.metrics as { name: string }[] | undefined) ?? []);
    const names = metrics.map((m) => m.name);
    expect(names).toContain('rolloutdesk.questions');
  });

  it('carries no secret and nothing the user typed', () => {
    const everything = ingestion.payloads.join('\n');
    expect(everything.length).toBeGreaterThan(0);
    const secrets = {
      'storage account key': DEV_KEY,
      'identity header': identity.msi.header,
      'download token': EXPORT_TOKEN,
      ...Object.fromEntries(tokensSent.map((t, i) => [`channel token ${i}`, t])),
      ...Object.fromEntries(identity.msi.issued.map((t, i) => [`managed identity token ${i}`, t.token])),
    };
    for (const [what, secret] of Object.entries(secrets)) expect(everything, what).not.toContain(secret);
    // Neither the whole message nor its distinctive words.
    expect(everything).not.toContain(TYPED);
    expect(everything).not.toContain(TYPED.split(' ')[8] ?? TYPED);
    expect(everything).not.toMatch(/greyed/);
  });
});
