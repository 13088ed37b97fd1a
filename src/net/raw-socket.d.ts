// Local typings for raw-socket 1.8.1 (the package ships none; npm-feasibility.md §1).
// Only what src/net uses is declared.
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';

  export interface SocketOptions {
    addressFamily?: number; // AddressFamily.IPv4 (1) | AddressFamily.IPv6 (2)
    protocol?: number;
    bufferSize?: number;
  }

  export class Socket extends EventEmitter {
    close(): this;
    /** any numeric level/option goes straight to setsockopt */
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    getOption(level: number, option: number, value: Buffer, length: number): number;
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): this;
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      beforeCallback: () => void,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): this;
    pauseRecv(): this;
    resumeRecv(): this;
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: () => void): this;
  }

  export function createSocket(options?: SocketOptions): Socket;
  export const AddressFamily: { IPv4: 1; IPv6: 2 };
  export function createChecksum(...parts: Array<Buffer | { buffer: Buffer; offset: number; length: number }>): number;
}
