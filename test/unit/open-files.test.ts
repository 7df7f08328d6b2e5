import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionsPerListener, FILES_RESERVED, openFilesLimit } from '../../src/open-files.js';

describe('open files', () => {
  it('reads the soft limit from /proc/self/limits, and says null where there is none or no limit', () => {
    const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63459                63459                processes \nMax open files            ${soft}                 4096                 files     \n`;
    assert.equal(openFilesLimit(() => limits('1024')), 1024);
    assert.equal(openFilesLimit(() => limits('unlimited')), null);
    assert.equal(openFilesLimit(() => { throw new Error('ENOENT'); }), null);
    assert.equal(typeof openFilesLimit(), 'number', 'this machine has the file');
  });

  it('keeps server.max_connections when it fits, lowers it to what the limit leaves each listener otherwise', () => {
    assert.equal(connectionsPerListener(4096, 1, 65536), 4096);
    assert.equal(connectionsPerListener(4096, 1, null), 4096);
    assert.equal(connectionsPerListener(4096, 1, 4096), 4096 - FILES_RESERVED);
    assert.equal(connectionsPerListener(4096, 2, 1024), Math.floor((1024 - FILES_RESERVED) / 2));
    assert.equal(connectionsPerListener(4096, 1, 100), 16, 'never below 16');
  });
});
