/** Small iteration helpers shared by the MLflow clients. */

/** An iterable that starts a fresh iteration (fresh requests) each time it is iterated. */
export function reiterable<T>(start: () => AsyncIterator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: start };
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
