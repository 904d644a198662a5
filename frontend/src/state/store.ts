// The one store the React tree reads (through useSyncExternalStore): applies server messages
// from the client to the viewer state, sends the follow-up requests, and offers UI actions.

import type { ViewerClient } from '../connection/client';
import type { ClientEventType, ClientMessages } from '../protocol';
import { loadForFilter, setFilter, toggle } from './tree';
import { applyMessage, dismissError, initialViewerState, type ViewerState } from './viewerState';

export class ViewerStore {
  private current: ViewerState = initialViewerState;
  private listeners = new Set<() => void>();

  constructor(readonly client: ViewerClient) {
    client.onAny((_payload, message) => {
      const applied = applyMessage(this.current, message);
      this.set(applied.state);
      for (const [eventType, payload] of applied.requests) this.send(eventType, payload);
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ViewerState => this.current;

  private set(next: ViewerState): void {
    if (next === this.current) return;
    this.current = next;
    this.pollWhileLoading();
    for (const listener of this.listeners) listener();
  }

  private loadingPoll: ReturnType<typeof setInterval> | null = null;

  /**
   * While a load is under way, ask `loadingStateQuery` every second: not every load ends with an
   * `openStageResult` (a variant switch recomposes in place), but the loading state always settles.
   */
  private pollWhileLoading(): void {
    const busy = this.current.loading.busy;
    if (busy && this.loadingPoll === null) {
      this.loadingPoll = setInterval(() => this.send('loadingStateQuery', {}), 1000);
    } else if (!busy && this.loadingPoll !== null) {
      clearInterval(this.loadingPoll);
      this.loadingPoll = null;
    }
  }

  send<K extends ClientEventType>(eventType: K, payload: ClientMessages[K]): boolean {
    return this.client.send(eventType, payload);
  }

  toggleRow(path: string): void {
    const result = toggle(this.current.tree, path);
    this.set({ ...this.current, tree: result.state });
    if (result.request) this.send('getChildrenRequest', { prim_path: result.request });
  }

  setTreeFilter(filter: string): void {
    const loaded = loadForFilter(setFilter(this.current.tree, filter));
    this.set({ ...this.current, tree: loaded.state });
    for (const path of loaded.requests) this.send('getChildrenRequest', { prim_path: path });
  }

  /** Tree clicks go through the server, which answers with the canonical selection. */
  selectPrims(paths: string[]): void {
    this.send('selectPrimsRequest', { paths });
  }

  openStage(url: string): void {
    const trimmed = url.trim();
    if (!trimmed) return;
    this.set({ ...this.current, stageError: null, loading: { ...this.current.loading, busy: true, url: trimmed, activity: `Opening ${trimmed}…` } });
    this.send('openStageRequest', { url: trimmed });
  }

  dismissError(id: number): void {
    this.set(dismissError(this.current, id));
  }
}
