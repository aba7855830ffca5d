import assert from 'node:assert/strict';
import { assertSecureUrl, isLoopbackHost } from '../../src/databricks/http';
import { normalizeWorkspaceUrl } from '../../src/pipeline/connection';

describe('client core: the one loopback check (http allowed only there)', () => {
  it('isLoopbackHost: localhost, ::1 and 127.0.0.0/8, case-insensitive, bracketed or not', () => {
    const yes = ['localhost', 'LOCALHOST', 'LocalHost', '::1', '[::1]', '127.0.0.1', '127.0.0.0', '127.1.2.3', '127.255.255.255'];
    const no = [
      '',
      'localhost.evil.example',
      'evil-localhost',
      '127.0.0.1.evil.example',
      '128.0.0.1',
      '126.255.255.255',
      '127.256.0.1',
      '127.0.0',
      '0.0.0.0',
      '::',
      '::2',
      '[::1',
      'adb-1.azuredatabricks.net',
    ];
    assert.deepEqual(
      yes.map(isLoopbackHost),
      yes.map(() => true),
    );
    assert.deepEqual(
      no.map(isLoopbackHost),
      no.map(() => false),
    );
  });

  it('the client and the connection input agree on every spelling a URL can take', () => {
    const urls = [
      'http://LOCALHOST:8080',
      'http://[::1]:8080',
      'http://[0:0:0:0:0:0:0:1]:8080',
      'http://127.0.0.1:1',
      'http://127.1:1',
      'http://2130706433:1',
      'http://128.0.0.1',
      'http://localhost.evil.example',
    ];
    const client = urls.map((u) => {
      try {
        assertSecureUrl(u);
        return true;
      } catch {
        return false;
      }
    });
    const input = urls.map((u) => {
      try {
        normalizeWorkspaceUrl(u, 'workspaceUrl');
        return true;
      } catch {
        return false;
      }
    });
    // WHATWG URL parsing lowercases the host and writes 127.1 and 2130706433 as 127.0.0.1, [0:...:1] as [::1].
    assert.deepEqual(client, [true, true, true, true, true, true, false, false]);
    assert.deepEqual(input, client);
  });
});
