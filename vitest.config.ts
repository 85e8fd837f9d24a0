import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // ONNX Runtime and the Kafka/ES clients are native/networked: run files in child processes.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
