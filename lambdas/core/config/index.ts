export * from './schema';
export * from './metric';
export * from './errors';
export * from './defaults';
export * from './resolve';
export * from './validate';
export * from './document';
export * from './render';
