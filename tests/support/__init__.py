"""Helpers every test tier shares: fakes of the ports, worlds on the local stack, bundles, browsers, templates."""
