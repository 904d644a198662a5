// The small part of NVIDIA's `@nvidia/ov-web-rtc` API the WebRTC driver uses.
declare module '@nvidia/ov-web-rtc' {
  export const OVHOST_LIBRARY_MISSING: boolean | undefined;
  export const StreamType: { DIRECT: string } | undefined;
  export const AppStreamer:
    | {
        connect(options: Record<string, unknown>): Promise<unknown>;
        sendMessage(message: string): Promise<unknown> | void;
        terminate(force?: boolean): Promise<unknown> | void;
      }
    | undefined;
}
