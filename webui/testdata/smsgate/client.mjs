// Drives gsmgate's /3rdparty/v1 with SMSGate's official JS client, the way a
// CRM written for SMS Gateway for Android would. Prints one JSON object with
// what each call returned; TestSMSGateClient checks it.
import Client, { WebHookEventType } from 'android-sms-gateway';

const { BASE, LOGIN, PASSWORD, TO, HOOK } = process.env;

// The client leaves HTTP to the caller; this one is fetch-based and throws
// on a non-2xx answer, as the client's README suggests.
async function call(method, url, body, headers) {
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) {
    const err = new Error(`${method} ${url}: HTTP ${res.status}: ${text}`);
    err.status = res.status;
    throw err;
  }
  return text ? JSON.parse(text) : null;
}
const http = {
  get: (url, headers) => call('GET', url, undefined, headers),
  post: (url, body, headers) => call('POST', url, body, headers),
  put: (url, body, headers) => call('PUT', url, body, headers),
  patch: (url, body, headers) => call('PATCH', url, body, headers),
  delete: (url, headers) => call('DELETE', url, undefined, headers),
};

const api = new Client(LOGIN, PASSWORD, http, BASE);
const out = {};
out.health = await api.getHealth();
out.sent = await api.send({ phoneNumbers: [TO, 'not a number'], message: 'Hello from an SMSGate client', withDeliveryReport: true });
// Wait for the virtual modem to send it.
for (let i = 0; i < 100; i++) {
  out.state = await api.getState(out.sent.id);
  if (out.state.state !== 'Pending' && out.state.state !== 'Processed') break;
  await new Promise((r) => setTimeout(r, 100));
}
out.hook = await api.registerWebhook({ event: WebHookEventType.SmsReceived, url: HOOK });
out.hooks = await api.getWebhooks();
out.devices = await api.getDevices();
out.exported = await api.exportInbox({ deviceId: '', since: new Date(Date.now() - 3600e3), until: new Date(Date.now() + 60e3) });
out.deleted = await api.deleteWebhook(out.hook.id);
out.hooksAfter = await api.getWebhooks();
try {
  await new Client(LOGIN, 'wrong', http, BASE).getDevices();
  out.wrongPassword = 'accepted';
} catch (e) {
  out.wrongPassword = e.status;
}
console.log(JSON.stringify(out));
