import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FilterError, filter, quoteKey, quoteValue } from '../../src/mlflow/filter';
import { ApiFault } from '../../emulator/contracts';
import { likeToRegExp, parseFilter, parseOrderBy } from '../../emulator/routes/mlflow/search';

function faultMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiFault, `expected ApiFault, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.errorCode, 'INVALID_PARAMETER_VALUE');
    return e.message;
  }
  assert.fail('expected an ApiFault');
}

describe('filter() builder', () => {
  it('builds the documented candidate filter with backticked keys and single-quoted values', () => {
    assert.equal(
      filter().tag('candidate', '=', 'true').attribute('status', '=', 'FINISHED').metric('auc', '>', 0.8).toString(),
      "tags.`candidate` = 'true' AND attributes.status = 'FINISHED' AND metrics.`auc` > 0.8",
    );
    assert.equal(filter().toString(), '');
    assert.equal(filter().isEmpty(), true);
    assert.equal(
      filter().param('lr', 'LIKE', '0.%').attribute('start_time', '>=', 1700000000000).toString(),
      "params.`lr` LIKE '0.%' AND attributes.start_time >= 1700000000000",
    );
    assert.equal(filter().runIdIn(['a', "b'c"]).toString(), `attributes.run_id IN ('a', "b'c")`);
  });

  it('is immutable: adding a term returns a new builder', () => {
    const base = filter().tag('a', '=', '1');
    base.tag('b', '=', '2');
    assert.equal(base.toString(), "tags.`a` = '1'");
  });

  it('keeps hostile values literal: quotes switch to double quotes, OR and backslashes stay inside the string', () => {
    assert.equal(filter().tag('t', '=', "x' OR '1'='1").toString(), "tags.`t` = \"x' OR '1'='1\"");
    assert.equal(filter().tag('t', '=', 'a" OR tags.x = "b').toString(), 'tags.`t` = \'a" OR tags.x = "b\'');
    assert.equal(filter().tag('t', '=', 'C:\\dir\\file').toString(), "tags.`t` = 'C:\\dir\\file'");
    assert.equal(filter().tag("it's key", '=', 'v').toString(), "tags.`it's key` = 'v'");
  });

  it('rejects what cannot be expressed safely, naming the problem', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => filter().tag('a`b', '=', 'x'), /contains a backtick/],
      [() => filter().tag('', '=', 'x'), /non-empty string/],
      [() => filter().tag('k', '=', 'line1\nline2'), /control character/],
      [() => filter().tag('k\n', '=', 'x'), /control character/],
      [() => filter().tag('k', '=', `both ' and "`), /contains both ' and "/],
      [() => filter().tag('k', '=', 'ends with \\'), /ends with a backslash/],
      [() => filter().metric('auc', '>', Number.NaN), /finite number/],
      [() => filter().metric('auc', '>', Infinity), /finite number/],
      [() => filter().tag('k', '>' as never, 'x'), /Operator ">" is not allowed for tag/],
      [() => filter().metric('auc', 'LIKE' as never, 1), /not allowed for metric/],
      [() => filter().attribute('colour' as never, '=', 'x'), /Unknown run attribute 'colour'/],
      [() => filter().attribute('status', '=', 3 as never), /takes a string value/],
      [() => filter().attribute('start_time', '>', '3' as never), /takes a numeric value/],
      [() => filter().runIdIn([]), /at least one run id/],
    ];
    for (const [fn, re] of cases) assert.throws(fn, (e: unknown) => e instanceof FilterError && re.test(e.message), re.source);
  });

  it('quoteKey/quoteValue are exported for other filter languages (model-version search)', () => {
    assert.equal(quoteKey('a.b', 'tag'), '`a.b`');
    assert.equal(quoteValue('x', 'v'), "'x'");
  });

  it('property: any value the builder accepts is parsed back by the emulator grammar as exactly that literal', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 1, maxLength: 20 }), (value, key) => {
        let text: string;
        try {
          text = filter().tag(key, '=', value).param('p', '!=', value).toString();
        } catch (e) {
          assert.ok(e instanceof FilterError);
          return; // rejected values are fine; only accepted ones must round-trip
        }
        assert.deepEqual(parseFilter(text), [
          { type: 'tag', key, op: '=', value: { kind: 'string', value } },
          { type: 'param', key: 'p', op: '!=', value: { kind: 'string', value } },
        ]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('emulator filter grammar (parseFilter)', () => {
  it('parses identifiers in every documented form', () => {
    assert.deepEqual(parseFilter("tags.mlflow.runName = 'a'"), [{ type: 'tag', key: 'mlflow.runName', op: '=', value: { kind: 'string', value: 'a' } }]);
    assert.deepEqual(parseFilter('tags."user-name" = "x"'), [{ type: 'tag', key: 'user-name', op: '=', value: { kind: 'string', value: 'x' } }]);
    assert.deepEqual(parseFilter('`metrics`.`model class` >= -1.5e-3'), [
      { type: 'metric', key: 'model class', op: '>=', value: { kind: 'number', value: -0.0015 } },
    ]);
    assert.deepEqual(parseFilter("status != 'FAILED' and run_id not in ('a','b')"), [
      { type: 'attribute', key: 'status', op: '!=', value: { kind: 'string', value: 'FAILED' } },
      { type: 'attribute', key: 'run_id', op: 'NOT IN', value: { kind: 'list', value: ['a', 'b'] } },
    ]);
    assert.deepEqual(parseFilter("params.lr ILIKE '%E-3'"), [{ type: 'param', key: 'lr', op: 'ILIKE', value: { kind: 'string', value: '%E-3' } }]);
    assert.deepEqual(parseFilter('   '), []);
  });

  it('rejects OR, parentheses, unknown entity types, dangling AND and unterminated strings with 400 INVALID_PARAMETER_VALUE', () => {
    assert.match(
      faultMessage(() => parseFilter("tags.a = 'x' OR tags.b = 'y'")),
      /'OR' is not supported/,
    );
    assert.match(
      faultMessage(() => parseFilter("(tags.a = 'x')")),
      /parentheses are not supported/,
    );
    assert.match(
      faultMessage(() => parseFilter("colour.a = 'x'")),
      /Invalid entity type 'colour'/,
    );
    assert.match(
      faultMessage(() => parseFilter("tags.a = 'x' AND")),
      /expected an identifier/,
    );
    assert.match(
      faultMessage(() => parseFilter("tags.a = 'x")),
      /unterminated quoted string/,
    );
    assert.match(
      faultMessage(() => parseFilter("tags.a = 'x' tags.b = 'y'")),
      /expected 'AND' or the end of the filter/,
    );
    assert.match(
      faultMessage(() => parseFilter('tags.a == 1')),
      /expected a quoted string or a number/,
    );
    assert.match(
      faultMessage(() => parseFilter("tags.a = 'x'; DROP")),
      /unexpected character ';'/,
    );
  });

  it('parseOrderBy reads `<identifier> [ASC|DESC]`', () => {
    assert.deepEqual(parseOrderBy('metrics.`auc` DESC'), { type: 'metric', key: 'auc', ascending: false });
    assert.deepEqual(parseOrderBy('attributes.start_time'), { type: 'attribute', key: 'start_time', ascending: true });
    assert.deepEqual(parseOrderBy('start_time asc'), { type: 'attribute', key: 'start_time', ascending: true });
    assert.match(
      faultMessage(() => parseOrderBy('metrics.auc SIDEWAYS')),
      /expected ASC or DESC/,
    );
  });

  it('likeToRegExp: % and _ wildcards, other characters literal, ILIKE case-insensitive', () => {
    assert.equal(likeToRegExp('gbm-%', false).test('gbm-42'), true);
    assert.equal(likeToRegExp('gbm-%', false).test('GBM-42'), false);
    assert.equal(likeToRegExp('gbm-%', true).test('GBM-42'), true);
    assert.equal(likeToRegExp('a_c', false).test('abc'), true);
    assert.equal(likeToRegExp('a.c', false).test('abc'), false);
    assert.equal(likeToRegExp('(x)+', false).test('(x)+'), true);
  });
});
