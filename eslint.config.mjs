// ESLint for web/: plain ES modules run by the browser, no build step. `make lint` runs it.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['web/vendor/**'] },
  js.configs.recommended,
  {
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Set text with textContent; user text is never HTML.' },
        { property: 'outerHTML', message: 'Set text with textContent; user text is never HTML.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: 'Never insert HTML.' },
      ],
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
];
