import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The two @dmtp packages are linked from this repository (file: dependencies): resolve React, TanStack Query and the
// client from this app only, so that the hooks and the app share one React and one QueryClient context.
export default defineConfig({
  plugins: [react()],
  resolve: { dedupe: ['react', 'react-dom', '@tanstack/react-query', '@dmtp/key-registry-client'] },
  build: { outDir: 'dist', emptyOutDir: true },
});
