// Build of the installable PWA. Docs: docs/pwa.md#build-serving-and-caching.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { promisify } from 'node:util'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import VueI18n from '@intlify/unplugin-vue-i18n/vite'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'

const gzip = promisify(zlib.gzip)
const brotli = promisify(zlib.brotliCompress)

// WhiteNoise (and nginx's gzip_static) serve foo.js.br / foo.js.gz next to foo.js
// when the browser accepts them, so the compression is paid once, at build time.
function precompress() {
  let outDir
  return {
    name: 'govdesk-precompress',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir)
    },
    async closeBundle() {
      const walk = async (dir) => {
        for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
          const file = path.join(dir, entry.name)
          if (entry.isDirectory()) await walk(file)
          else if (/\.(js|mjs|css|html|json|webmanifest|svg|txt)$/.test(entry.name)) {
            const raw = await fs.readFile(file)
            if (raw.length < 512) continue
            await fs.writeFile(file + '.gz', await gzip(raw, { level: 9 }))
            await fs.writeFile(
              file + '.br',
              await brotli(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
            )
          }
        }
      }
      await walk(outDir)
    },
  }
}

// Vant's icon font is inlined as WOFF2 with a fallback on a public CDN; the app never
// reaches outside its own origin (CSP font-src 'self' data:), so the fallback goes.
function dropCdnFontFallback() {
  return {
    name: 'govdesk-drop-cdn-font',
    apply: 'build',
    generateBundle(_, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type === 'asset' && file.fileName.endsWith('.css') && typeof file.source === 'string') {
          file.source = file.source.replace(/,\s*url\(["']?(?:https?:)?\/\/at\.alicdn\.com[^)]*\)\s*format\(["']?woff["']?\)/g, '')
        }
      }
    },
  }
}

export default defineConfig({
  base: '/',
  // vue-i18n's feature flags: no devtools hooks, legacy API or message compiler shipped.
  define: {
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'true',
    __INTLIFY_JIT_COMPILATION__: 'true',
  },
  // `import { useI18n } from 'vue-i18n'` gets the same small build as the rest of the app.
  resolve: { alias: { 'vue-i18n': 'petite-vue-i18n' } },
  build: {
    target: 'es2020',
    assetsDir: 'assets',
    cssCodeSplit: true,
    reportCompressedSize: true,
  },
  plugins: [
    vue(),
    // The runtime-only vue-i18n build, composition API only, without its message
    // compiler: messages are plain {placeholder} strings compiled by src/i18n/index.js.
    VueI18n({
      module: 'petite-vue-i18n',
      runtimeOnly: true,
      compositionOnly: true,
      fullInstall: false,
      dropMessageCompiler: true,
    }),
    dropCdnFontFallback(),
    // Only the Vant components a template uses are bundled (tree-shaken), with their CSS.
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false, // registered in src/main.js after the first paint
      includeAssets: ['favicon.png', 'icons/apple-touch-icon.png'],
      manifest: {
        id: '/',
        name: '协同办公',
        short_name: '协同办公',
        description: '协同办公 GovDesk：待办审批、公文阅读、一键同意 (approvals on the phone)',
        lang: 'zh-Hans',
        start_url: '/#/todo',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#f7f8fa',
        theme_color: '#194aa0',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The offline app shell: index.html, every hashed asset, the icons.
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        // hls.js (the camera player's own chunk) is fetched when a camera is opened, not
        // precached by every phone: a stream needs the network anyway (docs/integrations.md#video-pwa).
        globIgnores: ['**/hls*.js'],
        navigateFallback: '/index.html',
        // The API, its docs and Django's static files are never answered from the shell.
        navigateFallbackDenylist: [/^\/api\//, /^\/static\//, /^\/admin\//],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        // Web Push handlers (push, notificationclick) live in public/push-sw.js.
        importScripts: ['/push-sw.js'],
        runtimeCaching: [],
      },
    }),
    precompress(),
  ],
})
