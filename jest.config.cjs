/** Tests are TypeScript, compiled to CommonJS by ts-jest (the library itself ships as ESM). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/globalSetup.cjs',
  moduleNameMapper: {
    '^@tensorflow/tfjs-core/dist/register_all_gradients$': '<rootDir>/node_modules/.cache/maai-encoder/register_all_gradients.cjs',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, target: 'ES2022', isolatedModules: true } }],
  },
  testTimeout: 300000,
};
