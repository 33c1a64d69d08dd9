"""Loopback fakes of the city's other systems (docs/integrations.md#fakes).

Plain Python (never imports api): each module serves one external system's documented
contract on 127.0.0.1, for the tests and for ``make demo``; a city's integrator points
the connector at the real system instead.
"""
