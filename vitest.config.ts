import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // ONNX Runtime and the Kafka/ES clients are native/networked: run files in child processes.
    pool: 'forks',
    // Real Kafka + Elasticsearch for test/integration/** (scripts/services.sh). Starts nothing for unit-only runs.
    globalSetup: ['./test/setup/global-services.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
