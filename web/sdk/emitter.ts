/** A minimal typed event emitter: `on` returns the function that removes the listener. */
export type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])] as Listener<Events[K]>[]) {
      try {
        listener(event);
      } catch (error) {
        // A faulty listener must not stop delivery to the others, nor the connection's own bookkeeping.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
