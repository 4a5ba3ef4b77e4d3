// Shared esbuild settings: tfjs packages stay external, except tfjs-core's ES-module gradient registrations,
// which are bundled because tfjs-core's CommonJS entry does not include them.
export const externalPackages = ['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-webgpu'];

export const tfjsCoreExact = {
  name: 'tfjs-core-exact-external',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-core$/ }, (a) => ({ path: a.path, external: true }));
  },
};
