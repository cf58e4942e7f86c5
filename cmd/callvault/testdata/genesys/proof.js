// The Genesys Cloud face with the real purecloud-platform-client-v2:
// client-credentials login through setGateway, a realtime audit query,
// and GET /api/v2/analytics/events (not in the SDK's typed APIs, so
// through the SDK's callApi). PHASE=before prints the denial and the token;
// PHASE=after tries the old token (OLD_TOKEN) again, then logs in anew.
const platformClient = require('purecloud-platform-client-v2');

const client = platformClient.ApiClient.instance;
// Extended responses carry status, headers (ININ-Correlation-Id) and body.
client.setReturnExtendedResponses(true);
client.setGateway({ host: process.env.GC_HOST, protocol: 'http', port: Number(process.env.GC_PORT) });

function events() {
  return client.callApi('/api/v2/analytics/events', 'GET', {}, { pageSize: 5 }, {}, {}, null,
    ['PureCloud OAuth'], ['application/json'], ['application/json']);
}

function show(label, err) {
  console.log(label, 'STATUS', err.status, 'BODY', JSON.stringify(err.body),
    'CORRELATION', err.headers && err.headers['inin-correlation-id']);
}

async function main() {
  if (process.env.PHASE === 'after') {
    client.setAccessToken(process.env.OLD_TOKEN);
    try {
      await events();
      console.log('OLD TOKEN UNEXPECTEDLY ALLOWED');
    } catch (err) {
      show('OLD TOKEN DENIED', err);
    }
  }
  const auth = await client.loginClientCredentialsGrant(process.env.GC_CLIENT_ID, process.env.GC_CLIENT_SECRET);
  console.log('LOGGED IN', auth.accessToken ? 'token' : 'none');
  console.log('TOKEN', auth.accessToken);
  const audit = new platformClient.AuditApi();
  const now = new Date();
  const from = new Date(now.getTime() - 24 * 3600 * 1000);
  const res = await audit.postAuditsQueryRealtime({
    interval: from.toISOString() + '/' + new Date(now.getTime() + 3600 * 1000).toISOString(),
    serviceName: 'ContactCenter', sort: [{ name: 'Timestamp', sortOrder: 'descending' }], pageNumber: 1, pageSize: 25,
  });
  console.log('AUDIT TOTAL', res.body.total, 'ENTITIES', res.body.entities.length,
    'CORRELATION', res.headers['inin-correlation-id']);
  try {
    const ev = await events();
    console.log('EVENTS OK', ev.status, ev.body.entities.length);
  } catch (err) {
    show('EVENTS DENIED', err);
    // The correlation id finds the denial and its decision trace.
    const cid = err.headers['inin-correlation-id'];
    const found = await audit.postAuditsQueryRealtime({
      interval: from.toISOString() + '/' + new Date(now.getTime() + 3600 * 1000).toISOString(),
      serviceName: 'access', filters: [{ property: 'RequestId', value: cid }],
    });
    const e = found.body.entities[0];
    console.log('TRACE FOUND', found.body.total, e && e.status, e && e.context && e.context.trace);
  }
}

main().catch((err) => {
  console.log('FAILED', err && (err.status || ''), JSON.stringify(err && (err.body || err.message || err)));
  process.exit(1);
});
