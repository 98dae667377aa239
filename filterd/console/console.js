// console.js -- the console's script: the token in sessionStorage, sent as a Bearer header (minimal until the real pages land).
'use strict';
const $ = (id) => document.getElementById(id);
$('token').value = sessionStorage.getItem('filterd-token') || '';
$('save').onclick = () => sessionStorage.setItem('filterd-token', $('token').value);
$('try').onclick = async () => {
  const r = await fetch('api/try', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json',
               Authorization: 'Bearer ' + sessionStorage.getItem('filterd-token') },
    body: JSON.stringify({ text: $('text').value }),
  });
  $('out').textContent = JSON.stringify(await r.json(), null, 2);
};
