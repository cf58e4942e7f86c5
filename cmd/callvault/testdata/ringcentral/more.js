// The rest of the proof: paging by navigation.nextPage, a recording's
// content, an access token expiring under the SDK (401, refresh, retry),
// and a denied call's exact error message.
const { SDK } = require('@ringcentral/sdk');

async function main() {
  const env = process.env;
  const rc = new SDK({ server: env.RC_SERVER_URL, clientId: env.RC_CLIENT_ID, clientSecret: env.RC_CLIENT_SECRET });
  const p = rc.platform();
  let refreshed = 0;
  p.on(p.events.refreshSuccess, () => refreshed++);
  await p.login({ jwt: env.RC_JWT });

  const from = new Date(Date.now() - 30 * 864e5).toISOString();
  let url = '/restapi/v1.0/account/~/call-log?perPage=5&direction=Inbound&direction=Outbound&dateFrom=' + from;
  let pages = 0, records = 0;
  const seen = new Set();
  while (url && pages < 4) {
    const j = await (await p.get(url)).json();
    pages++;
    for (const r of j.records) { records++; seen.add(r.id); }
    url = j.navigation.nextPage ? j.navigation.nextPage.uri : null;
  }
  console.log('PAGES ' + pages + ' RECORDS ' + records + ' DISTINCT ' + seen.size);

  const withRec = await (await p.get('/restapi/v1.0/account/~/call-log', {
    withRecording: true, perPage: 1, dateFrom: new Date(Date.now() - 300 * 864e5).toISOString() })).json();
  const rec = withRec.records[0].recording;
  const meta = await (await p.get(rec.uri)).json();
  const audio = Buffer.from(await (await p.get(rec.contentUri)).arrayBuffer());
  console.log('RECORDING ' + meta.id + ' ' + meta.contentType + ' BYTES ' + audio.length + ' MAGIC ' + audio.subarray(0, 4).toString());

  // The server's access token lifetime is short; make the SDK believe its
  // token is still good, let it expire, and call: 401, refresh, retry.
  // From here the SDK does not refresh on its own, so a refresh can only
  // come from the server's 401.
  await p.auth().setData({ expire_time: Date.now() + 3600e3 });
  const before = refreshed;
  await new Promise((r) => setTimeout(r, 3500));
  const mine = await (await p.get('/restapi/v1.0/account/~/extension/~/call-log', { dateFrom: from })).json();
  console.log('AFTER EXPIRY records=' + mine.records.length + ' refreshed=' + refreshed + ' refreshedOn401=' + (refreshed - before));

  const narrow = new SDK({ server: env.RC_SERVER_URL, clientId: env.RC_NARROW_ID, clientSecret: env.RC_NARROW_SECRET }).platform();
  await narrow.login({ jwt: env.RC_JWT });
  try {
    await narrow.get(rec.uri);
    console.log('NOT DENIED');
  } catch (e) {
    console.log('DENIED ' + e.message);
    const body = await e.response.json();
    console.log('DENIAL ' + JSON.stringify({ errorCode: body.errorCode, errors: body.errors, permissionName: body.permissionName }));
    console.log('HINT ' + body.hint);
  }
}

main().catch((e) => { console.log('FAIL ' + e.message); process.exit(1); });
