import assert from 'node:assert/strict';
import { DatabricksApiError } from '../../../src/databricks/errors';
import { classifyNotebook, explainReposError, folderLink } from '../../../src/tasks/deploy/run';

describe('deploy run: classifyNotebook(relative, firstLine)', () => {
  it('source notebooks need the Databricks header of their language; the extension is stripped', () => {
    assert.deepEqual(classifyNotebook('a/b/train.py', '# Databricks notebook source'), { format: 'SOURCE', language: 'PYTHON', target: 'a/b/train' });
    assert.deepEqual(classifyNotebook('q.SQL', '-- Databricks notebook source'), { format: 'SOURCE', language: 'SQL', target: 'q' });
    assert.deepEqual(classifyNotebook('m.scala', '// Databricks notebook source  '), { format: 'SOURCE', language: 'SCALA', target: 'm' });
    assert.deepEqual(classifyNotebook('r/plot.r', '\uFEFF# Databricks notebook source'), { format: 'SOURCE', language: 'R', target: 'r/plot' });
    assert.deepEqual(classifyNotebook('x.ipynb', '{'), { format: 'JUPYTER', target: 'x' });
  });
  it('files without the header, with the header of another language, or another extension are skipped', () => {
    assert.equal(classifyNotebook('helper.py', 'import os'), undefined);
    assert.equal(classifyNotebook('q.sql', '# Databricks notebook source'), undefined);
    assert.equal(classifyNotebook('m.scala', '-- Databricks notebook source'), undefined);
    assert.equal(classifyNotebook('README.md', '# Databricks notebook source'), undefined);
    assert.equal(classifyNotebook('noext', '# Databricks notebook source'), undefined);
  });
});

describe('deploy run: explainReposError(err, ctx)', () => {
  const err = (status: number, errorCode: string, message: string) => new DatabricksApiError({ status, errorCode, message });
  it('keeps errors it has no advice for unchanged', () => {
    const e = err(500, 'INTERNAL_ERROR', 'boom');
    assert.equal(explainReposError(e, { action: 'update', path: '/Repos/a/b' }), e);
    const p = err(403, 'PERMISSION_DENIED', 'User does not have Manage permission on the repo.');
    assert.equal(explainReposError(p, { action: 'update', path: '/Repos/a/b' }), p);
  });
  it('turns path and allow-list errors into advice, quoting the service', () => {
    const m = explainReposError(err(400, 'DIRECTORY_PROTECTED', 'Top-level folder can only contain repos'), { action: 'create', path: '/Repos/a' }).message;
    assert.equal(
      m,
      'Databricks rejected the Git folder path /Repos/a: use /Repos/<folder>/<repo-name> or a folder under /Workspace whose parent exists. Databricks answered 400 DIRECTORY_PROTECTED: Top-level folder can only contain repos',
    );
    assert.match(
      explainReposError(err(400, 'GIT_URL_NOT_ON_ALLOW_LIST', 'x'), { action: 'create', path: '/Repos/a/b', url: 'https://g/x' }).message,
      /^The repository URL https:\/\/g\/x is not on the workspace's Git URL allow list/,
    );
  });
  it('folderLink(host, id) is <host>/browse/folders/<id>', () => {
    assert.equal(folderLink('https://adb-1.2.azuredatabricks.net', 42), 'https://adb-1.2.azuredatabricks.net/browse/folders/42');
  });
});
