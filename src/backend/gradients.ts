/**
 * tfjs-core's Node entry (CommonJS) ships without gradient registrations; they live in its ES-module sources.
 * The build bundles that module (scripts/build.mjs; jest maps it to a CommonJS bundle made in test/globalSetup).
 * Registrations go to tfjs' global registry, so they apply to the one engine every copy shares.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
