export { compareLayouts, type LayoutDifference } from './compare.js';
export type { Op } from './decode.js';
export { Decoder, expectedResult } from './decode.js';
export { IntervalMap } from './interval-map.js';
export { isGzip, openLines, replayFile, replayLines, replayText, validateLines } from './io.js';
export type {
  CallEvent,
  ExitEvent,
  SignalEvent,
  TraceEvent,
  UnfinishedEvent,
} from './parser.js';
export { NO_PID, TraceError, TraceParser } from './parser.js';
export type {
  Divergence,
  ReplayedCall,
  ReplayMode,
  ReplayOptions,
  ReplayResult,
  Strategies,
} from './replay.js';
export { danglingErrors, Replayer } from './replay.js';
export type { Value } from './tokenizer.js';
export { TokenError, Tokenizer } from './tokenizer.js';
export { type ReplayWorkloadOptions, replayWorkload } from './workload.js';
