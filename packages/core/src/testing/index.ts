// Test support, for the tests of every package and of test/ (as
// `@tidekv/core/testing`): seeded randomness and the helpers for stores.
// Test-only: excluded from the build and from the package's exports.
export * from './random.js'
export * from './test-support.js'
