// Copies the front-end packages the pages need from node_modules into service/static/vendor/
// (gitignored): the bpmn-js viewer, bpmn-auto-layout bundled for the browser, Swagger UI, and the
// designer's modeler (bpmn-js Modeler + properties panel + service/static/js/designer/) bundled.
// Run after `npm ci`:  npm run build
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const vendor = join(root, 'service', 'static', 'vendor');

const version = (name) => JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version;

function copy(pkg, files, target) {
  for (const file of files) {
    const to = join(vendor, target, file.split('/').pop());
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(modules, pkg, file), to, { recursive: true });
  }
}

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });

copy('bpmn-js', ['dist/bpmn-navigated-viewer.production.min.js', 'dist/assets/diagram-js.css',
  'dist/assets/bpmn-js.css', 'dist/assets/bpmn-font', 'LICENSE'], 'bpmn-js');

// bpmn-auto-layout ships ES modules only; bundle it (with bpmn-moddle) into one browser script
// exposing window.BpmnAutoLayout.layoutProcess, used for diagrams that have no DI section.
await build({
  stdin: { contents: "export { layoutProcess } from 'bpmn-auto-layout';", resolveDir: root },
  bundle: true, format: 'iife', globalName: 'BpmnAutoLayout', minify: true, target: 'es2020',
  outfile: join(vendor, 'bpmn-auto-layout', 'bpmn-auto-layout.min.js'), logLevel: 'warning',
  legalComments: 'inline',  // MIT notices stay in the bundle (the package ships no LICENSE file)
});

// flask-smorest's /api/docs page loads these three files from OPENAPI_SWAGGER_UI_URL.
copy('swagger-ui-dist', ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js',
  'favicon-16x16.png', 'favicon-32x32.png', 'LICENSE', 'NOTICE'], 'swagger-ui');

// The process designer's editor: our sources in service/static/js/designer/ with bpmn-js's Modeler,
// bpmn-js-properties-panel and bpmn-auto-layout, in one browser script; plus the panel's styles.
await build({
  entryPoints: [join(root, 'service', 'static', 'js', 'designer', 'modeler.js')],
  bundle: true, format: 'iife', minify: true, target: 'es2020', nodePaths: [modules],
  outfile: join(vendor, 'designer', 'designer-modeler.js'), logLevel: 'warning',
  legalComments: 'linked',  // the packages' license notices, in designer-modeler.js.LEGAL.txt
});
copy('@bpmn-io/properties-panel', ['dist/assets/properties-panel.css'], 'designer');
copy('@bpmn-io/properties-panel', ['LICENSE'], 'designer/properties-panel');
copy('bpmn-js-properties-panel', ['LICENSE'], 'designer/bpmn-js-properties-panel');

const manifest = Object.fromEntries(['bpmn-js', 'bpmn-auto-layout', 'swagger-ui-dist', 'bpmn-js-properties-panel',
  '@bpmn-io/properties-panel'].map((n) => [n, version(n)]));
writeFileSync(join(vendor, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log('vendor assets built in service/static/vendor:', manifest);
