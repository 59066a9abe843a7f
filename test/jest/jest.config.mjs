// Jest runs the built package (dist/) as a user's plain ESM test would: no transform.
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  transform: {},
  testMatch: ['<rootDir>/test/jest/**/*.test.mjs'],
};
