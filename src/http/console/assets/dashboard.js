// The dashboard's 30-day chart: the numbers come in the chart box's data-days (the CSP allows no inline script).

import { lineChart } from '/admin/assets/charts.js';

const box = document.getElementById('activity-chart');
if (box) {
  const days = JSON.parse(box.dataset.days ?? '[]');
  const times = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  lineChart(box, times, [
    { label: 'Signups', values: days.map((d) => d.signups) },
    { label: 'Confirmations', values: days.map((d) => d.confirmations) },
    { label: 'Unsubscribes', values: days.map((d) => d.unsubscribes) },
  ]);
}
