// Unit tests of the add-on's components (jsdom, React Testing Library), as Volto 18+ does.
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  esbuild: { loader: 'jsx', include: /packages\/.*\.jsx?$/, exclude: [] },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['packages/*/src/**/*.test.{js,jsx}'],
    setupFiles: ['@testing-library/jest-dom/vitest'],
  },
});
