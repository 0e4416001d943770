import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { useLeanAsyncResourceBind } from './lean-async-bind';

describe('useLeanAsyncResourceBind', () => {
  const original = AsyncResource.prototype.bind;
  afterAll(() => {
    AsyncResource.prototype.bind = original;
  });

  beforeAll(() => {
    useLeanAsyncResourceBind();
  });

  it('binds without the deprecated asyncResource accessor (DEP0172), which Node 20 builds on every bind', () => {
    const bound = new AsyncResource('test').bind(() => undefined);
    expect('asyncResource' in bound).toBe(false);
  });

  it('runs the function in the async context the resource was made in, wherever it is called', () => {
    const storage = new AsyncLocalStorage<string>();
    const bound = storage.run('request A', () => new AsyncResource('test').bind(() => storage.getStore()));
    expect(storage.run('request B', () => bound())).toBe('request A');
    expect(bound()).toBe('request A');
  });

  it('passes the arguments and the result, and the caller’s this unless one is given', () => {
    const resource = new AsyncResource('test');
    const unbound = resource.bind(function (this: unknown, a: number, b: number) {
      return { self: this, sum: a + b };
    });
    const holder = { unbound };
    expect(holder.unbound(2, 3)).toEqual({ self: holder, sum: 5 });
    const given = { name: 'given' };
    // Node's API takes a thisArg; @types/node leaves it out.
    const bindTo = resource.bind as (fn: () => unknown, thisArg: unknown) => () => unknown;
    const fixed = bindTo.call(resource, function (this: unknown) {
      return this;
    }, given);
    expect(fixed.call({ other: true })).toBe(given);
  });

  it('keeps the length of the function and refuses what is not one', () => {
    expect(new AsyncResource('test').bind((_a: number, _b: number, _c: number) => undefined).length).toBe(3);
    expect(() => new AsyncResource('test').bind(42 as never)).toThrow('The "fn" argument must be of type function');
  });

  it('propagates what the function throws', () => {
    const bound = new AsyncResource('test').bind(() => {
      throw new Error('inner');
    });
    expect(() => bound()).toThrow('inner');
  });
});
