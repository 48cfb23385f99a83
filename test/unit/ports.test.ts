import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePorts } from '../../infra/ports';

test('freePorts gives distinct ports that are free again once it returns', async () => {
  const ports = await freePorts(40);
  assert.equal(new Set(ports).size, 40, `repeated ports: ${ports.join(',')}`);
  // each can be listened on (nothing of freePorts still holds it)
  for (const port of ports.slice(0, 5)) {
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
});
