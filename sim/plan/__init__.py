"""Business-plan stress tests: ``p2psim plan`` (docs/business-plan.md).

A plan is a scenario with ``[plan]`` targets and uncertain inputs. :mod:`~sim.plan.study` runs it
many times on any executor, drawing the inputs of each run (:mod:`~sim.plan.inputs`) and keeping
each run's company figures (:mod:`~sim.plan.runs`); :mod:`~sim.plan.analysis` turns them into the
odds of each target, the statements' spread and what drives the misses;
:mod:`~sim.plan.workbook` and :mod:`~sim.plan.charts` write the spreadsheet and the figures.
"""
