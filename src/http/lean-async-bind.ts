import { AsyncResource } from 'node:async_hooks';

/**
 * Node 20's `AsyncResource#bind` hangs a deprecated `asyncResource` accessor
 * (DEP0172) on every function it binds, built from two `util.deprecate`
 * wrappers whose prototypes it resets each time; Node 25 removed the property
 * (End-of-Life). Fastify binds one callback for every request that has a body,
 * and a profile of Fastify's pending poll charged those wrappers a tenth of
 * the request. On a Node that still adds the property, this binds the same
 * way without it: the function runs in the resource's async context, with the
 * caller's `this` unless one is given, and keeps its `length`. Returns whether
 * it had to.
 */
export function useLeanAsyncResourceBind(): boolean {
  if (!('asyncResource' in new AsyncResource('devicegate:probe').bind(() => undefined))) return false;
  AsyncResource.prototype.bind = function bind<Func extends (...args: any[]) => any>(
    this: AsyncResource,
    fn: Func,
    thisArg?: ThisParameterType<Func>,
  ): Func {
    if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function');
    const resource = this;
    const bound =
      thisArg === undefined
        ? function (this: unknown, ...args: unknown[]) {
            return resource.runInAsyncScope(fn, this, ...args);
          }
        : (...args: unknown[]) => resource.runInAsyncScope(fn, thisArg, ...args);
    Object.defineProperty(bound, 'length', { configurable: true, enumerable: false, value: fn.length, writable: false });
    return bound as Func;
  };
  return true;
}
